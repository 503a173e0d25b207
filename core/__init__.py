"""The engine of the CNN image-classification studio.

Only its TensorFlow modules (the builders, the pipeline, the fits, the predictor; see docs/ARCHITECTURE.md)
import TensorFlow, at their top; every other module reaches them from inside the function that needs one.
So the dashboard's Overview, Explore and Train pages and the command line's `--help` stay quick, and only
the work that needs Keras pays for it.
"""
