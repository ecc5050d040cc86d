#include "edgemon/common/clock.h"

namespace edgemon {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace edgemon
