"""The builtin offline analyst (see ../ANALYST.md)."""
