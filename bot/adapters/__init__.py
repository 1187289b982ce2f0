"""Platform adapters: each turns platform updates into Commands and renders Replies."""
