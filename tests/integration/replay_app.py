"""A user's Autopilot endpoint for the replay-scenario tests, loaded through `servers:` in scenario files."""

from __future__ import annotations

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask("replay-endpoint")

    @app.post("/bot")
    def bot():  # type: ignore[no-untyped-def]
        if request.form.get("CurrentTask") == "goodbye":
            return jsonify({"actions": [{"say": "Goodbye!"}]})
        return jsonify({"actions": [{"say": f"You said {request.form.get('CurrentInput')}"}, {"listen": True}]})

    return app
