"""Thin adapters: validate, authorise, call one service, reply with one envelope."""
