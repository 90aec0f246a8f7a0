// The dashboard's script: filled in by the next commit.
