"""matplotlib imported when a step first uses it, in a kernel started for a
project that waits for it (daa_kernel.py --plots-on-demand: the first
result comes ~0.3 s of CPU sooner; a warm spare, started ahead of need,
imports it at once).

Three ways a step reaches pyplot, all covered:
- the namespace's `plt` and `matplotlib`: stand-ins (LazyModule) that
  import the real module at the first attribute read and put it in the
  namespace in their place;
- `import matplotlib.pyplot` in user code, pandas' .plot(), seaborn: an
  import hook (a sys.meta_path finder) runs the callbacks registered with
  on_pyplot() right after pyplot's module has run, before the importer sees
  it (figures.py makes plt.show() save the figures there);
- when pyplot is already imported, on_pyplot() calls back at once.

The kernel's environment names the Agg backend (MPLBACKEND=Agg, set by the
daemon and again by warm.py), so a late import never looks for a display."""

import importlib
import importlib.abc
import sys
import types

PYPLOT = "matplotlib.pyplot"
_callbacks = []
_finder = None


def pyplot():
    """The pyplot module when something imported it, else None."""
    return sys.modules.get(PYPLOT)


def on_pyplot(fn):
    """Call fn(pyplot) now when pyplot is imported, else right after its
    import (every later import of it is the same module object)."""
    plt = pyplot()
    if plt is not None:
        fn(plt)
        return
    _callbacks.append(fn)
    _install_finder()


def _loaded(module):
    """pyplot's module has run: the callbacks, once each."""
    while _callbacks:
        _callbacks.pop(0)(module)


class _PyplotFinder(importlib.abc.MetaPathFinder):
    """Finds pyplot through the other finders and wraps its loader's
    exec_module so that _loaded() runs after the module's own code."""

    def find_spec(self, name, path, target=None):
        if name != PYPLOT or not _callbacks:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                run = spec.loader.exec_module

                def exec_module(module, run=run):
                    run(module)
                    _loaded(module)
                spec.loader.exec_module = exec_module   # this spec's loader object only
                return spec
        return None


def _install_finder():
    global _finder
    if _finder is None:
        _finder = _PyplotFinder()
        sys.meta_path.insert(0, _finder)


class LazyModule(types.ModuleType):
    """Stands for a module in a namespace until first used: the first
    attribute read imports it (and pyplot: `matplotlib.pyplot.plot(...)`
    works as in a kernel that imported it at start), replaces this
    stand-in in the namespace and answers from the real module."""

    def __init__(self, name, namespace, key):
        super().__init__(name)
        object.__setattr__(self, "_lazy_where", (namespace, key))

    def _lazy_load(self):
        importlib.import_module(PYPLOT)
        module = importlib.import_module(self.__name__)
        namespace, key = object.__getattribute__(self, "_lazy_where")
        if namespace.get(key) is self:
            namespace[key] = module
        return module

    def __getattr__(self, attr):
        if attr.startswith("_lazy_"):
            raise AttributeError(attr)
        return getattr(self._lazy_load(), attr)

    def __setattr__(self, attr, value):
        setattr(self._lazy_load(), attr, value)

    def __dir__(self):
        return dir(self._lazy_load())

    def __repr__(self):
        return "<module %r (imported at first use)>" % self.__name__


def module_or_stand_in(name, namespace, key):
    """The module (pyplot or matplotlib) once pyplot is imported, else a
    LazyModule for namespace[key]: a matplotlib imported without pyplot
    would lack the `pyplot` attribute a stand-in's load provides."""
    return sys.modules[name] if PYPLOT in sys.modules else LazyModule(name, namespace, key)
