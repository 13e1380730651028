"""Encryption at rest of ID numbers, phone numbers and bank accounts (ADR 0020).

``keys`` reads and checks the keyring (pure), ``columns`` holds the column types that seal
and open values as SQLAlchemy binds and reads them, ``startup`` refuses a missing or wrong
key when the app starts, and ``rotation`` re-seals rows under a new key in batches.
"""
