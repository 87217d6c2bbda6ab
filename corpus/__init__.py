"""Reading abstracts from the files researchers export into one `Record` type.

`corpus` knows formats and text. It never imports `index` or `search`.
"""

from corpus.readers import FileResult, Skip, detect_format, read_file, read_paths
from corpus.record import Record, make_record_id

__all__ = ["Record", "make_record_id", "FileResult", "Skip", "detect_format", "read_file", "read_paths"]
