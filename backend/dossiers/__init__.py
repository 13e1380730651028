"""The household's file: watermarked copies of visit photos for print and export, and the
one printable dossier per household (一户一档), built as a job. ADR 0025."""
