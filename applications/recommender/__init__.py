"""E-commerce case study: matrix factorization and two-tower recommenders on MovieLens and Online Retail."""
