"""The PLG Onboarding example the demo builds, as the tool arguments a model would send.

Split by stage so each file reads in one sitting; everything is re-exported here.
"""

from .activation import *  # noqa: F403
from .inventory import *  # noqa: F403
from .profiles import *  # noqa: F403
