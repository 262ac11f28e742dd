#pragma once
// Validation of `llm_config.tools[]` (api-contract.md §3.7): transfer_call, end_call and
// function (webhook) tools.

#include "common/error.hpp"
#include "store/secret_box.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>

namespace tl::api {

// `previous_tools` is the stored tools array (or empty), used to carry sealed secrets over.
Result<boost::json::array> validate_tools(const boost::json::array& tools,
                                          const std::string& path,
                                          const boost::json::array& previous_tools,
                                          const store::SecretBox& secrets);

}  // namespace tl::api
