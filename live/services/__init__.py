"""Use cases: each validates rules, runs one unit of work and hands its changes to the fan-out."""
