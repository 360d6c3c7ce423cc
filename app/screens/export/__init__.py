"""The export screen: four kinds of export, progress, Test Export."""
