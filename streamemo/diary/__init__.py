"""The voice diary: entries of dictated speech on SQLite (``store``)."""
