from __future__ import annotations

from django.dispatch import Signal

#: The seed's custom signal example, sent with actor_object and target.
custom_signal = Signal()
#: The seed's dynamic-user example: ``movie`` carries the audiences.
notify_audiences = Signal()
