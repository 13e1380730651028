"""Evidence: photos taken at the doorstep and where their bytes are kept.

`images` checks and cleans one untrusted upload (pure, no Flask); `storage` keeps the
resulting blobs on local disk or in S3.
"""
