"""QA: a new user's and a demanding team's use of the product, each defect found pinned."""
