"""The example contact-center service (a vendor endpoint for the 'Without Flex' hand-off)."""

from examples.contact_center.app import create_app, load_schema

__all__ = ["create_app", "load_schema"]
