"""Attachment scanning for Amazon Connect's FILE_SCANNER integration (docs/reference/file-scanner.md, docs/reference/rekognition.md).

scanner.py      use case: event -> Verdict (APPROVED / REJECTED + reason), one decision log line
wiring.py       builds the scanner over S3, Rekognition and the antivirus engine
event.py        typed view of the request          reasons.py   reason codes, Verdict, Rejected
deadline.py     when the answer is due             inspectors.py  true type -> structure check
source.py       ByteSource port, in-memory source  s3_object.py   S3 adapter: ranged GETs, ETag-pinned
windows.py      pattern search over streamed chunks
filetypes.py    true type from magic bytes, extension -> allowed types, polyglots
zipdir.py       zip central directory by ranged reads, bomb limits, member inflation
office.py       OOXML structure: macros, ActiveX, objects, external relationships
office_content.py  DDE fields (Word) and DDE formulas (Excel) in the streamed body
ole.py          legacy Office compound files (olefile)
pdf.py          PDF active content, object streams inflated
rtf.py          RTF objects and DDE fields        text.py   TXT/CSV text-only, CSV formulas
media.py        WAV/MP4/MOV headers               images.py image headers, Rekognition limits
moderation.py   Rekognition DetectModerationLabels adapter and category policy (v6 -> v7)
antivirus.py    the antivirus port (SCAN_ANTIVIRUS)   clamav.py  a warm clamd over INSTREAM
guardduty.py    GuardDuty Malware Protection for S3: the object tag as the verdict
"""
