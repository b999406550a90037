"""`python -m maestro` is the `maestro` command."""

from .launch import main

if __name__ == "__main__":
    main()
