"""Pure analysis kernels over columnar arrays compiled from the model.

Nothing here decides visibility or does I/O: results name items by index
and the sharing gate cuts them for each partner.
"""
