"""Retention and purge (issue 22): how long each kind of personal data is kept, the nightly
purge, its dry run, and legal holds per case (docs/decisions/0022-retention-and-purge.md)."""
