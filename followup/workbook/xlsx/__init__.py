"""The xlsx patcher: change a few cells of one sheet of an .xlsx and copy everything else.

`patch.patch_sheet` is its entry (patch.py says how it works); `values.read_back` says how a
written value reads back, for the save's check. The other modules are its parts: package.py
(the zip and its relationships), markup.py (finding and editing elements in XML text),
sheet.py (the sheet part, streamed), values.py (cell XML), styles.py, tables.py, own_sheet.py
(the Log sheet), and xmlcheck.py (the strict check of every part before a save is swapped
in). Names with a leading underscore are private to this package. Nothing is imported here, so
that reading a workbook (which uses xmlcheck) does not load the patcher.
"""
