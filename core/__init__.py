"""The engine of the CNN image-classification studio.

Nothing here imports TensorFlow at import time: the dashboard's Overview and the
command line's `--help` stay quick, and only the work that needs Keras pays for it.
"""
