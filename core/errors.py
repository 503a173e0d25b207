"""The project's own errors: each carries one sentence a person can act on."""


class StudioError(Exception):
    """Base class: `str(err)` is the sentence shown in the UI or the JSON error line."""


class BadNameError(StudioError):
    """A name a person gave does not fit the name rule (`core.names`)."""


class DataError(StudioError):
    """A dataset is missing, corrupt or in the wrong format."""


class ImageError(StudioError):
    """An input image cannot be used."""


class NoDigitError(ImageError):
    """The image is readable but holds nothing that looks like a digit."""


class NotADigitError(NoDigitError):
    """Ink was found, but the digit gate says it is a letter, a symbol or a drawing, not a digit."""


class NaturalPhotoError(ImageError):
    """A digit model was given a natural photo (a scene, an animal, a face), not writing or a drawing."""


class NoGarmentError(ImageError):
    """The image is readable but nothing in it stands out from the background as a garment."""


class NotAPetError(ImageError):
    """A cat-or-dog model was shown a photo that is neither."""


class NoneOfYourClassesError(ImageError):
    """A model trained on a person's own classes was shown a photo far from all of them."""


class ModelError(StudioError):
    """A model cannot be built, saved or loaded."""


class RunError(StudioError):
    """A background training run cannot be started or controlled."""
