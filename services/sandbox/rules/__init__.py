"""The sandbox's pure core: Meta's rules, formats and tables. Nothing here does I/O or reads
the clock; each function takes values (and `now`) and returns a result or Meta's error."""
