#pragma once
// CAF type ids for messages that come from NATS (Connection::subscribe_actor).
// Block shoal_nats starts at caf::first_custom_type_id; other libraries use later offsets
// (shoal_storage: +100).

#include <caf/all.hpp>

#include "shoal/nats/connection.h"

CAF_BEGIN_TYPE_ID_BLOCK(shoal_nats, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(shoal_nats, (shoal::nats::MessagePtr))
CAF_END_TYPE_ID_BLOCK(shoal_nats)

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shoal::nats::MessagePtr)
