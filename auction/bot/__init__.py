"""The Telegram bot: a python-telegram-bot Application whose thin handlers call the services."""
