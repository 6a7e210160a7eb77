__version__ = "0.1.0"

from . import hub

def from_pretrained(name_or_path, # a folder written by `save_pretrained`, or a Hub model id `user/name`
                    **kwargs, # `newllm.hub.from_pretrained`'s: device, load_memory, revision, expect, Hub download options
                   ):
    """Rebuild any newllm model saved by `save_pretrained` (`newllm.hub.from_pretrained`), whichever module defines its class.

    Model classes register themselves with the hub when their module is imported (`HubMixin`), and `newllm.registry` imports
    every model family; it is imported here, when a model is to be rebuilt, so that `import newllm` stays light."""
    from . import registry
    return hub.from_pretrained(name_or_path, **kwargs)
