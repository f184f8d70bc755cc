"""The application store (SQLModel) and the blob store: projections written by activities."""
