"""Garment preprocessing: any garment picture becomes a Fashion-MNIST-style 28x28, light on black, filling the
frame; a sketch's closed outline is filled; an empty picture is "no garment"."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.errors import NoGarmentError
from core.inference.garment_input import prepare_garment

TROUSERS = [(70, 20), (130, 20), (145, 180), (112, 180), (100, 70), (88, 180), (55, 180)]


def product_photo(fill=(40, 40, 60), paper=(250, 250, 250), size=(200, 200), outline_only=False):
    """A dark pair of trousers on white paper, as in a shop's product photo."""
    image = Image.new("RGB", size, paper)
    draw = ImageDraw.Draw(image)
    if outline_only:
        draw.polygon(TROUSERS, outline=fill, width=6)
    else:
        draw.polygon(TROUSERS, fill=fill)
    return image


def rows_and_columns(image, level=30):
    ys, xs = np.nonzero(image > level)
    return ys.min(), ys.max(), xs.min(), xs.max()


def test_a_product_photo_becomes_light_on_black_and_fills_the_frame_on_its_long_side():
    image = prepare_garment(product_photo())
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert image.max() > 250 and image[0, 0] == 0 and image[:, 0].max() < 30
    top, bottom, left, right = rows_and_columns(image)
    assert top == 0 and bottom == 27  # the long side fills the frame, as Zalando's trimming did
    assert abs((left + right) / 2 - 13.5) <= 1.0  # the short side is centred


def test_the_same_garment_on_dark_paper_or_small_in_a_corner_gives_the_same_input():
    reference = prepare_garment(product_photo())
    inverted = prepare_garment(product_photo(fill=(215, 215, 195), paper=(5, 5, 5)))
    corner = Image.new("RGB", (800, 600), (250, 250, 250))
    corner.paste(product_photo().resize((100, 100)), (20, 30))
    for other in (inverted, prepare_garment(corner)):
        assert np.corrcoef(reference.ravel(), other.ravel())[0, 1] > 0.9


def test_a_transparent_cutout_is_laid_on_white():
    cutout = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(cutout).polygon(TROUSERS, fill=(40, 40, 60, 255))
    assert np.corrcoef(prepare_garment(cutout).ravel(), prepare_garment(product_photo()).ravel())[0, 1] > 0.9


def test_a_sketched_outline_is_filled_but_a_photo_is_left_as_it_is():
    outline = product_photo(outline_only=True)
    sketched = prepare_garment(outline, is_sketch=True)
    as_photo = prepare_garment(outline)
    assert sketched[14, 9] > 100 and as_photo[14, 9] < 30  # inside one trouser leg
    assert sketched[26, 14] < 30  # between the legs stays empty: it is outside the outline


@pytest.mark.parametrize("picture", [Image.new("RGB", (120, 90), (255, 255, 255)),
                                     Image.new("RGBA", (280, 280), (0, 0, 0, 0)),
                                     Image.new("L", (64, 64), 7)])
def test_an_empty_picture_is_no_garment(picture):
    with pytest.raises(NoGarmentError, match="No garment found"):
        prepare_garment(picture)
