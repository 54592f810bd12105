// Manifest → what the supervisor needs (pure, unit-tested).
#pragma once

#include "berth/manifest/manifest.hpp"
#include "berth/supervisor/service_config.hpp"

namespace berth::pid1 {

supervisor::ServiceConfig service_config_from(const manifest::ServiceManifest& manifest);

}  // namespace berth::pid1
