"""Pure helpers with no evalkit imports."""
