"""The versions screen: a model line's versions as a timeline."""
