"""Click commands of the CLI; each module is one command and only wires options to library calls."""
