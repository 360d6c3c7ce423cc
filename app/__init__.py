"""The PEFT Studio desktop app (Kivy): a guided wizard and live dashboard over `peftstudio`'s public API."""
