// The network component of Cairn's infrastructure layer (FG DLT: Network — discovery and data
// transceiver): permissioned libp2p membership, bootstrap + peer exchange, gossip and request/response.
export { NetworkError, type NetworkErrorCode } from "./errors.ts";
export { isKeyFileExposed, loadOrCreatePeerKey, peerIdFromKeyFile } from "./keys.ts";
export {
  createNetwork,
  type GossipHandler,
  type GossipVerdict,
  type Network,
  type NetworkComponents,
  type NetworkEvent,
  type NetworkLogger,
  type NetworkStats,
  PEER_EXCHANGE,
  protocolId,
  type RequestHandler,
  type RequestOptions,
  redialDelay,
  topicId,
} from "./network.ts";
export { defaultNetworkOptions, type NetworkOptions } from "./options.ts";
export { decodePeerExchange, encodePeerExchange, type PeerExchangeEntry } from "./pex.ts";
