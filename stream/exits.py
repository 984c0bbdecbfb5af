"""The exit codes of `lpr` (README, "Exit codes"), apart from the runner so the command line knows them without
loading the models."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3
