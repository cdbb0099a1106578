"""How much one record may hold, the same for every MARC reader.

A record is mapped field by field, and a field costs the mapper a few
kilobytes while the record is built (a binary record of 2.9 MB with 100,000
650 fields took 380 MB and 30 s to map), so a hostile or broken export could
take a worker's memory with one record. The readers refuse a record past
these limits with rule ``record-size`` before building its fields. The
binary reader also bounds what a directory may ask for: no more entries
than fields, and no field built twice from the same bytes (19,000 entries
naming one field of 10 kB took 409 MB from a record of 240 kB), so what it
builds never exceeds the record's own size. The limits are far above real
records: the largest in the developers' corpus is HathiTrust's record
003051567 (1.1 MB, 12,654 fields, 106,377 subfields, 974 fields of item
data), which is read.
"""

from __future__ import annotations

#: The most bytes of one binary record (read to its terminator up to this size), and
#: the most characters of text in one MARCXML record.
MAX_RECORD_SIZE = 4 * 1024 * 1024
#: The most fields (control and data fields) of one record.
MAX_RECORD_FIELDS = 20_000
#: The most subfields of one record.
MAX_RECORD_SUBFIELDS = 200_000
