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


def test_prepared_symbols_come_with_their_name_order_and_search_buffers(tmp_path, backend):
    """The browser's slow first steps are the facade's work on the backend
    thread (``symbols(prepared=True)``), not a closure a model submits."""
    kernel = KernelBackend(backend, source="image", images=[str(build_image(tmp_path))])
    plain = kernel.symbols().result()
    table = kernel.symbols(refresh=True, prepared=True).result()
    assert table._name_order is not None and table._blob is not None \
        and table._blob_case is not None
    order = table.name_order()
    names = [table.names[i] for i in order]
    assert names == sorted(table.names) and len(names) == len(table) > 2
    hits = table.select("counter", mode="substring").tolist()
    assert hits and all("counter" in table.names[i].lower() for i in hits)
    assert plain.select("counter", mode="substring").tolist() == hits
