import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Who may open connections (TCP 443) to the interface endpoints of a `PrivateAiNetwork`.
 *
 * Endpoint security groups never allow anything but HTTPS; this class only chooses the sources. Whatever is
 * chosen here, `PrivateAiNetwork.allowFrom(peer, ...services)` can open single endpoints to single peers later.
 */
export class EndpointAccess {
  /**
   * Any address inside the VPC's CIDR block (the default).
   *
   * Convenient, and still closed to everything outside the VPC; choose `fromPeers` or `explicitOnly` to let
   * each workload reach only the endpoints it uses.
   */
  public static fromVpcCidr(): EndpointAccess {
    return new EndpointAccess(true, []);
  }

  /**
   * Only the given peers (security groups or CIDR blocks), on TCP 443, for every endpoint.
   * @param peers the sources allowed to reach every endpoint
   */
  public static fromPeers(...peers: ec2.IPeer[]): EndpointAccess {
    return new EndpointAccess(false, [...peers]);
  }

  /**
   * No source at all until `PrivateAiNetwork.allowFrom(peer, ...services)` opens an endpoint to a peer.
   *
   * The tightest choice: a workload reaches exactly the endpoints it was allowed.
   */
  public static explicitOnly(): EndpointAccess {
    return new EndpointAccess(false, []);
  }

  /** Whether the whole VPC CIDR block is admitted. */
  public readonly vpcCidr: boolean;

  /** The peers admitted on TCP 443 to every endpoint (empty for `fromVpcCidr` and `explicitOnly`). */
  public readonly peers: ec2.IPeer[];

  private constructor(vpcCidr: boolean, peers: ec2.IPeer[]) {
    this.vpcCidr = vpcCidr;
    this.peers = peers;
  }
}
