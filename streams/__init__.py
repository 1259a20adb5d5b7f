"""Live data: engine.io book feed, polling feeds, local books, the collector and the CLI."""
