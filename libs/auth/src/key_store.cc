#include <utility>

#include "shoal/auth/verify.h"

namespace shoal::auth {

std::shared_ptr<const KeyStore::Map> KeyStore::snapshot() const {
  std::lock_guard lock(mu_);
  return secrets_;
}

void KeyStore::replace(std::vector<Credentials> credentials) {
  auto fresh = std::make_shared<Map>();
  for (auto& c : credentials) {
    fresh->insert_or_assign(std::move(c.access_key_id), std::move(c.secret_access_key));
  }
  std::shared_ptr<const Map> old;
  std::lock_guard lock(mu_);
  old = std::exchange(secrets_, std::move(fresh));  // `old` is freed after the unlock
}

void KeyStore::put(Credentials credentials) {
  std::shared_ptr<const Map> old;
  std::lock_guard lock(mu_);
  auto fresh = std::make_shared<Map>(*secrets_);
  fresh->insert_or_assign(std::move(credentials.access_key_id),
                          std::move(credentials.secret_access_key));
  old = std::exchange(secrets_, std::move(fresh));
}

std::optional<std::string> KeyStore::secret(std::string_view access_key_id) const {
  auto map = snapshot();
  auto it = map->find(access_key_id);
  if (it == map->end()) return std::nullopt;
  return it->second;
}

size_t KeyStore::size() const { return snapshot()->size(); }

}  // namespace shoal::auth
