"""Printable documents of the case workflow: notice of missing documents, public notice,
refusal letter, stop notice, approval notice and the emergency-aid record.

One entry point, ``service.render(kind, content, fmt, lang)``, gives the same text as a PDF
(ReportLab, Chinese through the built-in CID font, docs/decisions/0007-pdf-library.md) or as
a printable HTML page for the screen. The package owns no table: callers build the content
from their own data and store (or not) what it returns.
"""
