"""The entry point: `flask --app wsgi ...` for commands; `python wsgi.py` serves."""

from auction import create_app

app = create_app()

if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    port = app.config["PORT"]
    print(f"Bot-Auction is running at http://127.0.0.1:{port}", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)
