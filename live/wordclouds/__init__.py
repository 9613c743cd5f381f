"""Word clouds: entries grouped by spelling variants (`normalize`) and their word lists (`lexicon`)."""
