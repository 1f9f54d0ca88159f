"""Who looks at the bot's Home tab, so it can be drawn again for them when what it shows changes."""
