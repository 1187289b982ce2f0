"""Chat commands, platform-agnostic: each module registers its handlers on the router."""
