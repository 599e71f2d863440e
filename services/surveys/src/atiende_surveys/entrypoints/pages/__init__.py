"""The public survey page: its routes (survey.py), words (texts.py) and templates."""
