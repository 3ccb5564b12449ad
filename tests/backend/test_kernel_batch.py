"""KernelBackend.read_many: several symbols in one request, failures in place."""

from lainview.backend.errors import NoSuchSymbol
from lainview.backend.kernel import KernelBackend

from tests.kernel_image import build_image


def test_kernel_read_many_from_an_image(tmp_path, backend):
    kernel = KernelBackend(backend, source="image", images=[str(build_image(tmp_path))])
    values = kernel.read_many([("counter", 4, None), ("no_such_symbol", 4, None),
                               ("linux_banner", 5, None)]).result()
    assert values[0].data == (0x11223344).to_bytes(4, "little")
    assert isinstance(values[1], NoSuchSymbol)
    assert values[2].data == b"Linux"
