"""Each partner its own node: signed releases between nodes, and private deconfliction.

A node is the joint workspace server run by one partner: it holds that
partner's plans in full and the read-only copies its peers release to it.
``keys`` holds the node's identity and its peers, ``release`` the signed
bundles of what the sharing gate releases to a peer, ``sync`` the pull over
HTTP, ``psi`` the private set intersection of unreleased uses.
"""
