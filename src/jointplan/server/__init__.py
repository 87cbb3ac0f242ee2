"""The joint workspace server's use cases: storage-backed services the API and pages call.

Authorisation is decided here, through the sharing gate; the API layer only
translates requests and answers.
"""
