import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { ToolCapability } from '../../tools/tool-registry';
import { CapabilityLabels } from '../capability';

/** A subnet defined elsewhere (`Subnet.fromSubnetId`, `Vpc.fromLookup`): its routes are not in this app. */
interface ImportedSubnetLike extends IConstruct {
  readonly subnetId: string;
}

/** Route targets that lead out of the VPC whatever the destination. */
const OUTBOUND_TARGETS: ReadonlyArray<[keyof ec2.CfnRoute, string]> = [
  ['natGatewayId', 'a NAT gateway'],
  ['gatewayId', 'an internet or VPN gateway'],
  ['egressOnlyInternetGatewayId', 'an egress-only internet gateway'],
  ['carrierGatewayId', 'a carrier gateway'],
];
/** Other route targets, named in messages when they carry a default route. */
const OTHER_TARGETS: ReadonlyArray<[keyof ec2.CfnRoute, string]> = [
  ['transitGatewayId', 'a transit gateway'],
  ['vpcEndpointId', 'a VPC endpoint (for example a firewall endpoint)'],
  ['instanceId', 'an instance'],
  ['networkInterfaceId', 'a network interface'],
  ['vpcPeeringConnectionId', 'a VPC peering connection'],
  ['coreNetworkArn', 'a core network'],
  ['localGatewayId', 'a local gateway'],
  ['odbNetworkArn', 'an ODB network'],
];

/**
 * Every path from a Lambda function to the internet that the app shows, as sentences (empty when there is none):
 * - a function outside any VPC (Lambda's default networking reaches the internet);
 * - a function in a subnet whose route table has a default route (`0.0.0.0/0` or `::/0`, any target, or a
 *   destination that is a token), or any route to a NAT, internet, egress-only or carrier gateway;
 * - fail closed: a function not defined in this app, a VPC configuration given as a token, or an imported subnet
 *   whose routes are not in the app, unless that subnet carries a capability label without EXTERNAL_ACCESS.
 * Security-group egress rules are not considered: routes are the boundary this check trusts.
 */
export function internetPathsOf(fn: lambda.IFunction): string[] {
  const cfn = fn.node.defaultChild;
  if (!(cfn instanceof lambda.CfnFunction)) {
    return [`${fn.node.path} is not defined in this app, so its network placement is unknown (counted as internet egress)`];
  }
  const vpcConfig = cfn.vpcConfig;
  if (vpcConfig === undefined) return [`${fn.node.path} runs outside any VPC, where Lambda's default networking reaches the internet`];
  if (Token.isUnresolved(vpcConfig) || !Array.isArray((vpcConfig as lambda.CfnFunction.VpcConfigProperty).subnetIds)) {
    return [`${fn.node.path} has a VPC configuration given as a token, so its subnets are unknown (counted as internet egress)`];
  }
  const subnetIds = (vpcConfig as lambda.CfnFunction.VpcConfigProperty).subnetIds as string[];
  if (subnetIds.length === 0) return [`${fn.node.path} runs outside any VPC, where Lambda's default networking reaches the internet`];

  const all = fn.node.root.node.findAll();
  const subnets = all.filter((c): c is ec2.Subnet => c instanceof ec2.Subnet);
  const imported = all.filter((c): c is ImportedSubnetLike => !(c instanceof ec2.Subnet) && isImportedSubnet(c));
  const routes = all.filter((c): c is ec2.CfnRoute => c instanceof ec2.CfnRoute);

  const paths: string[] = [];
  for (const id of subnetIds) {
    const subnet = subnets.find((s) => sameValue(s.subnetId, s, id, cfn));
    if (subnet) {
      for (const route of routes) {
        if (!sameValue(route.routeTableId, route, subnet.routeTable.routeTableId, subnet)) continue;
        const why = outboundRoute(route);
        if (why) paths.push(`subnet ${subnet.node.path} (of ${fn.node.path}) has a route ${why}`);
      }
      continue;
    }
    const declared = imported.find((s) => sameValue(s.subnetId, s, id, cfn));
    const label = declared ? CapabilityLabels.of(declared) : undefined;
    if (label !== undefined) {
      if (label.includes(ToolCapability.EXTERNAL_ACCESS)) paths.push(`subnet ${declared!.node.path} (of ${fn.node.path}) is labelled EXTERNAL_ACCESS`);
      continue;
    }
    const name = declared ? `${declared.node.path} (${declared.subnetId})` : Token.isUnresolved(id) ? 'given as a token' : id;
    paths.push(
      `subnet ${name} of ${fn.node.path} is not defined in this app, so its routes cannot be checked (counted as internet egress; ` +
        'if it has no route out, declare it with CapabilityLabels.label(subnet, []))',
    );
  }
  return paths;
}

function isImportedSubnet(c: IConstruct): c is ImportedSubnetLike {
  const x = c as any;
  return typeof x.subnetId === 'string' && typeof x.internetConnectivityEstablished === 'object' && x.routeTable !== undefined;
}

/** Why a route leads out of the VPC, or undefined when it does not. */
function outboundRoute(route: ec2.CfnRoute): string | undefined {
  const v4 = route.destinationCidrBlock;
  const v6 = route.destinationIpv6CidrBlock;
  const destination = v4 ?? v6 ?? (route.destinationPrefixListId !== undefined ? 'a prefix list' : 'an unknown destination');
  const outbound = OUTBOUND_TARGETS.find(([key]) => route[key] !== undefined);
  if (outbound) return `to ${describe(destination)} through ${outbound[1]}`;
  const isDefault = v4 === '0.0.0.0/0' || v6 === '::/0' || (v4 !== undefined && Token.isUnresolved(v4)) || (v6 !== undefined && Token.isUnresolved(v6));
  if (!isDefault) return undefined;
  const other = OTHER_TARGETS.find(([key]) => route[key] !== undefined);
  return `to ${describe(destination)} through ${other ? other[1] : 'an unknown target'}`;
}

function describe(destination: string): string {
  return Token.isUnresolved(destination) ? 'a destination given as a token' : destination;
}

/** Whether two string values (often tokens) designate the same thing: equal text, or equal after resolution in one stack. */
function sameValue(a: string, scopeA: IConstruct, b: string, scopeB: IConstruct): boolean {
  if (a === b) return true;
  if (!Token.isUnresolved(a) && !Token.isUnresolved(b)) return false;
  try {
    const stackA = Stack.of(scopeA);
    const stackB = Stack.of(scopeB);
    return stackA === stackB && JSON.stringify(stackA.resolve(a)) === JSON.stringify(stackB.resolve(b));
  } catch {
    return false;
  }
}
